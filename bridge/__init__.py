"""midifill's faces to the outside: the OSC server and client, and the CLI."""
__version__ = "0.1.0"
