"""The legacy JSON shapes (pending, running, builds-4hr) and the dump files built from them."""
