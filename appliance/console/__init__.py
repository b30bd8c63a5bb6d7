"""`npac`: the operations console of NPAC personnel (a thin client of the node's control socket).

Every command is `npac [--socket PATH] [--json] <group> <verb> [arguments]`; the node does the work
and the checks, the console parses arguments, sends one request and prints the answer.
"""
