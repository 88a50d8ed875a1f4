"""adlc.frontend"""
