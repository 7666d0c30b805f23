"""Deploy-time code: what `sam deploy` runs to set the stack up, not part of either path's runtime."""
