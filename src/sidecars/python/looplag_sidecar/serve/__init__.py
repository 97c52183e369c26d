"""Service mode's server harness (issue 14): the user's ASGI app under their uvicorn, with
the heartbeat and attribution in the server's own loop. Started by run_serve.py."""
