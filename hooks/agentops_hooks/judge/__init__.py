"""The fresh-context judges of `agentops judge`: a worktree of exactly the change
(`worktree`), each judge run there with a clean environment (`run`), and the council
that combines what they say (`council`)."""
