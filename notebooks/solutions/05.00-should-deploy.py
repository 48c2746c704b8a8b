def should_deploy(push):
    """Deploy a push of commits to the branch main; not other branches, tags or a deleted branch."""
    return push["ref"] == "refs/heads/main" and not push["deleted"]
