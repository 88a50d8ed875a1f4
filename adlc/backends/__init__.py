"""adlc.backends"""
