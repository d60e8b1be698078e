#!/usr/bin/env python3
"""Runs one task of a FaceTrain Deadline job the way a Deadline worker runs a Simple plugin, with the
stand-in API beside this file: InitializeProcess, RenderExecutable, RenderArgument, the process
(stdout lines to the regex handlers; stderr is not given to them, as in Deadline), CheckExitCode.
Prints one JSON report: exit code, progress values, status, failure message, job failed, bad workers.

  run_task.py PLUGIN_DIR TASK_JSON
TASK_JSON: {"plugin_info": {...}, "config": {...}, "start_frame": N, "end_frame": N,
            "path_mapping": [[from, to], ...], "worker": "name"}
"""
import importlib.util
import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from Deadline import Plugins  # noqa: E402
from Deadline.Scripting import RepositoryUtils  # noqa: E402


class Task:
    def __init__(self, spec, plugin_directory):
        self.plugin_info = spec["plugin_info"]
        self.config = spec.get("config", {})
        self.start_frame = spec.get("start_frame", 0)
        self.end_frame = spec.get("end_frame", 0)
        self.worker = spec.get("worker", "worker01")
        self.job = spec.get("job", "job01")
        self.plugin_directory = plugin_directory
        self.progress = []
        self.status = ""
        self.log = []


def main():
    plugin_directory, task_file = sys.argv[1], sys.argv[2]
    spec = json.load(open(task_file))
    RepositoryUtils.PathMapping = [tuple(pair) for pair in spec.get("path_mapping", [])]
    task = Task(spec, plugin_directory)
    Plugins.DeadlinePlugin.Task = task
    module_spec = importlib.util.spec_from_file_location("FaceTrain", os.path.join(plugin_directory, "FaceTrain.py"))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    plugin = module.GetDeadlinePlugin()
    report = {"exit_code": None, "failed": None, "stderr_lines": 0}
    try:
        plugin.InitializeProcessCallback()
        executable = plugin.RenderExecutableCallback()
        arguments = plugin.RenderArgumentCallback()
        report["command"] = [executable] + shlex.split(arguments)
        process = subprocess.Popen(report["command"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True)
        for line in process.stdout:
            plugin.feed_stdout_line(line.rstrip("\n"))
        report["stderr_lines"] = len(process.stderr.read().splitlines())
        report["exit_code"] = process.wait()
        plugin.CheckExitCodeCallback(report["exit_code"])
    except Plugins.FailRenderException as failure:
        report["failed"] = str(failure)
    finally:
        module.CleanupDeadlinePlugin(plugin)
    report.update(progress=task.progress, status=task.status, log=task.log,
                  job_failed=bool(RepositoryUtils.FailedJobs), bad_workers=RepositoryUtils.BadWorkers)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
