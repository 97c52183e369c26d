"""Loop Lag's Python sidecar: runs a user's function under several execution
strategies and measures the asyncio event loop while it runs. Stdlib only."""
