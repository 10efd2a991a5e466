
import os, subprocess, sys
code = ("import time, os\n"
        "for _ in range(600):\n"
        "    time.sleep(0.5)\n"
        "    for path in ['{course}/grades.csv', '{course}/gradebook.db', '{outside}/outlived-{marker}']:\n"
        "        try:\n"
        "            open(path, 'a').write('forged')\n"
        "        except OSError:\n"
        "            pass\n")
subprocess.Popen([sys.executable, "-c", code, "{marker}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", code, "{marker}"])
    os._exit(0)
