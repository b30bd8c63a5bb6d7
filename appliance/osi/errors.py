"""The one exception type every decoder of peer bytes raises.

The association manager catches exactly this, aborts the one association whose bytes were bad,
and carries on; any other exception escaping a decoder is a bug the fuzz tests exist to find.
"""


class ProtocolError(Exception):
    """Peer bytes that a layer cannot accept: malformed, oversized, or out of order."""

    def __init__(self, layer: str, message: str):
        super().__init__(f"{layer}: {message}")
        self.layer = layer
        self.message = message
