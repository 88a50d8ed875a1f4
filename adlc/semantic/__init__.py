"""adlc.semantic"""
