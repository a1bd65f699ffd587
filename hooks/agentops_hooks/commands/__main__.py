"""`python -m agentops_hooks.commands`: the `agentops` command."""
from agentops_hooks.commands import main

main()
