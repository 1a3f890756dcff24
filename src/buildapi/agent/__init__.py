"""The self-serve agent: takes job requests from the broker and carries them out on the farm."""
