"""adlc.ir"""
