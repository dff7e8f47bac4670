"""The procedural painter, the embedded default: a stylised, seeded scene drawn with numpy from
the image prompt and mood. Its compositions (landscape, rooms, space) share one canvas.
"""
