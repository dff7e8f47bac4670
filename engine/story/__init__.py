"""The story: the scene schema, the branching graph, world state, play state and the narrator's memory.

Pure data and rules. Nothing here reads files, starts threads or imports a model library.
"""
