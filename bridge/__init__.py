"""midifill's faces to the outside: the OSC server and client, and the CLI.

The version is the package metadata's: midifill.model.limits.version().
"""
