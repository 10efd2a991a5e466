"""The Vietnamese edition's words: the glossary's terms (``glossary``), and what code writes on a
page turned into Vietnamese (``writing``: labels, table headers, numbers).
"""
