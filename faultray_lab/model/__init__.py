"""The topology model: ``topology`` (components, edges, the health lattice, a networkx view)
and ``schema`` (every key of a topology file, its default and meaning, and the validator that
reads them). A new component or edge field goes in both.
"""
