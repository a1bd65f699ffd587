"""Where the gates run: commit time (commit.py), a range of commits in CI or
pre-push (range_check.py), and the server's pre-receive hook (server.py).

Each builds the Changes of its place and hands them to the gates; no gate
knows which place it runs in. May import gates, evidence, ratchet and the core.
"""
