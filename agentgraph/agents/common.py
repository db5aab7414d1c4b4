"""Tools every specialist carries: the user's own profile and the way to a human."""

COMMON_TOOLS: tuple[str, ...] = ("get_user_profile", "update_preferences", "escalate_to_human")
