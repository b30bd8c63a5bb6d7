"""High availability for the NPAC pair: primary and disaster-recovery nodes (contract Article 12,
FRS RN10-1..4, IIS 5.3.1.2; DECISIONS "Primary / disaster-recovery pair").

- `roles`: the role machine, a pure table (role, event) -> (new role, effects); epochs, leadership.
- `wire`: the sealed (HMAC-SHA256) message format of heartbeats and replication.
- `replication` (live side) / `receiver` (follower side) / `snapshot`: journal shipping on 7410/tcp,
  synchronous acknowledgement, catch-up, snapshot resynchronisation, epoch checks.
- `heartbeat`: heartbeats over UDP (694) and a serial cable, per-path liveness.
- `fence`: the fencing hook; `control`: the node control interface and JSON-lines sockets;
  `node_link`: that interface for a node running in this process; `manager`: the npac-ha logic;
  `config` and `__main__`: `python -m ha --config FILE`; `cable`: workstation stand-ins for the
  interconnect (pty null modem, UDP relay) with cut switches for drills.
"""
