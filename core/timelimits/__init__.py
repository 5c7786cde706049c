"""Time limits (时限): policies inherited down the tree, and China's working-time calendar."""
