"""NPAC SMS business logic, independent of the wire: subscription versions (`versions`: the FRS
transition table and `step`), their timers (`timers`), tunables, per-TN invariants. Everything here
is pure: (state, event, clock) -> (new state, effects); the caller commits and then acts."""
