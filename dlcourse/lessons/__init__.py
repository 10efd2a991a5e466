"""One module per chapter, named like its page: the measurements, experiments, figures and
explorers behind that chapter, built on the core library and ``dlcourse.display``.
"""
