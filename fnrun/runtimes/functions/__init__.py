"""The function kinds: the classes (base, kinds, resources, serving), their registry, the factory
(new_function, code_to_function), import_function, environment and source settings, handler
documentation, and the run entry that hands execution the kinds' loader.

May import: every runtimes room but nuclio/, and the layers below runtimes.
"""
