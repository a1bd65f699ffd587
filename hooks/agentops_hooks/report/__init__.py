"""What people read about history: the fitness report (factor XII) and the
review of verdicts. May import gates, evidence, ratchet and the core."""
