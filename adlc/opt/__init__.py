"""adlc.opt"""
