"""The tenant tree (city → district → street/town → community) with compounds and buildings."""
