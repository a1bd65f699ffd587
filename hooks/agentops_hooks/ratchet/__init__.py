"""Factor VIII's metrics and their baselines in refs/notes/agentops/ratchet.

May import the core and evidence; never gates, places or commands.
"""
