
import os
for folder in ["{outside}", "/tmp", os.path.expanduser("~"), "/root", "{course}", "{course}/source", "{repo}",
               "{package}", "/work", "/", "/etc", "/usr/lib"]:
    path = os.path.join(folder, "wrote-{marker}")
    try:
        with open(path, "w") as handle:
            handle.write("x")
        print("WROTE", path)
    except OSError as error:
        print("DENIED", path, type(error).__name__)
