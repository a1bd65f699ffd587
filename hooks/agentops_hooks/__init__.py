"""agentops-hooks: hold coding-agent commits to the 12-Factor AgentOps factors."""
from __future__ import annotations

__version__ = "0.1.0"
