"""From recordings to items: the sample sheet, the items of each dataset, pre-cut clips,
leakage and splits.
"""
