"""What the built-in middleware share."""

# A job released because a limit is reached waits until the window resets, plus this
# (Laravel: `availableIn($key) + 3` in RateLimited and ThrottlesExceptions).
RELEASE_MARGIN_SECONDS = 3
