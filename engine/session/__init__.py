"""The Session, the one front door to a running story, and the parts it is composed of:
narration, pictures, saving and the job runners that keep slow work off the caller's thread.
"""
