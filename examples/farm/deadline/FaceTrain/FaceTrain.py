# FaceTrain: a Deadline application plugin for facetrain (extract, train and swap tasks).
#
# Install: copy this folder to <repository>/custom/plugins/FaceTrain and set the executable in
# Monitor > Tools > Configure Plugins > FaceTrain (the .param/.dlinit pair). Submit jobs with
# Plugin=FaceTrain and the plugin info key Arguments (see ../README.md and ../*.job).
#
# What it does, against Deadline's documented plugin API (Application Plugins manual page,
# https://docs.thinkboxsoftware.com/products/deadline/10.3/1_User%20Manual/manual/application-plugins.html,
# and the Scripting Reference, DeadlinePlugin and RepositoryUtils classes):
# - The executable comes from the plugin configuration (GetConfigEntry, one path per line, the
#   first that exists on this worker: FileUtils.SearchFileList), never from the job.
# - <STARTFRAME>, <ENDFRAME> (and <STARTFRAME%4>, <ENDFRAME%4> zero-padded) become the task's
#   frames; <QUOTE> a double quote; paths go through the repository's path mapping
#   (RepositoryUtils.CheckPathMapping).
# - Deadline's regex handlers read the process's stdout ("A regular expression callback class to
#   handle lines of stdout", RegexHandlerCallback). facetrain writes `Progress: N%` on stdout and its
#   `ERROR:` line on stderr (docs/farms.md, docs/design.md §5), so the plugin starts it through
#   facetrain_stdout.sh, which joins stderr to stdout: the handlers see both lines.
# - `Progress: N%` sets the task's progress; the last `ERROR:` line becomes the failure message.
# - The exit code decides (CheckExitCode): 0 done; 64, 65, 66, 78 (usage, bad input data such as
#   frames the plate does not have, missing input, bad configuration) cannot succeed on a retry:
#   the job is failed for good (RepositoryUtils.FailJob); 69 (no GPU or peer) and 75 (retry later:
#   a lost rank, a rendezvous timeout) and 143/130 (stopped after saving a checkpoint) are reported
#   as task errors, which Deadline requeues up to the job's task error limit, and for 69 this worker
#   goes on the job's bad-worker list (RepositoryUtils.AddBadSlaveForJob) so the retry runs elsewhere;
#   anything else is a task error (Deadline's usual retry).
# Tested with a small stand-in of this API (tests/e2e/deadline/) and the real facetrain by
# tests/e2e/farm_deadline.sh; not run on a real Deadline repository.
import os
import re

from Deadline.Plugins import DeadlinePlugin, PluginType
from Deadline.Scripting import FileUtils, RepositoryUtils

PERMANENT_EXIT_CODES = {64: "usage", 65: "bad input data", 66: "input missing", 78: "bad configuration"}
RETRY_EXIT_CODES = {69: "device or peer unavailable", 75: "temporary failure", 130: "stopped by SIGINT after saving",
                    143: "stopped by SIGTERM after saving"}
PROGRESS_REGEX = r"^Progress: (\d{1,3})%$"
ERROR_REGEX = r"^ERROR: (.*)$"


def GetDeadlinePlugin():
    return FaceTrainPlugin()


def CleanupDeadlinePlugin(deadlinePlugin):
    deadlinePlugin.Cleanup()


def replace_frame_tokens(arguments, start, end):
    """<STARTFRAME>, <ENDFRAME>, their zero-padded forms <STARTFRAME%N>/<ENDFRAME%N>, and <QUOTE>."""
    for token, frame in (("STARTFRAME", start), ("ENDFRAME", end)):
        arguments = re.sub(r"<%s%%(\d+)>" % token, lambda m, f=frame: str(f).zfill(int(m.group(1))), arguments)
        arguments = arguments.replace("<%s>" % token, str(frame))
    return arguments.replace("<QUOTE>", '"')


def exit_code_action(code):
    """What Deadline should do with facetrain's exit code: ("done"|"fail_job"|"retry"|"error", reason)."""
    if code == 0:
        return "done", "done"
    if code in PERMANENT_EXIT_CODES:
        return "fail_job", PERMANENT_EXIT_CODES[code]
    if code in RETRY_EXIT_CODES:
        return "retry", RETRY_EXIT_CODES[code]
    return "error", "exit %d" % code


class FaceTrainPlugin(DeadlinePlugin):
    def __init__(self):
        super().__init__()
        self.InitializeProcessCallback += self.InitializeProcess
        self.RenderExecutableCallback += self.RenderExecutable
        self.RenderArgumentCallback += self.RenderArgument
        self.CheckExitCodeCallback += self.CheckExitCode
        self.LastError = ""

    def Cleanup(self):
        for handler in self.StdoutHandlers:
            del handler.HandleCallback
        del self.InitializeProcessCallback
        del self.RenderExecutableCallback
        del self.RenderArgumentCallback
        del self.CheckExitCodeCallback

    def InitializeProcess(self):
        self.PluginType = PluginType.Simple
        self.SingleFramesOnly = False
        self.StdoutHandling = True
        self.UseProcessTree = True
        self.AddStdoutHandlerCallback(PROGRESS_REGEX).HandleCallback += self.HandleProgress
        self.AddStdoutHandlerCallback(ERROR_REGEX).HandleCallback += self.HandleError

    def RenderExecutable(self):
        # The wrapper that joins facetrain's stderr to the stdout Deadline reads.
        return os.path.join(self.GetPluginDirectory(), "facetrain_stdout.sh")

    def RenderArgument(self):
        candidates = self.GetConfigEntryWithDefault("FaceTrainExecutable", "")
        executable = FileUtils.SearchFileList(candidates.replace("\r", "").replace("\n", ";"))
        if not executable:
            self.FailRender("no facetrain executable found on this worker among '%s' (Configure Plugins > FaceTrain)"
                            % candidates.replace("\n", ";"))
        arguments = self.GetPluginInfoEntry("Arguments").strip()
        arguments = replace_frame_tokens(arguments, self.GetStartFrame(), self.GetEndFrame())
        arguments = RepositoryUtils.CheckPathMapping(arguments)
        self.LogInfo("facetrain: %s %s" % (executable, arguments))
        return '"%s" %s' % (executable, arguments)

    def HandleProgress(self):
        percent = min(100.0, float(self.GetRegexMatch(1)))
        self.SetProgress(percent)
        self.SetStatusMessage("facetrain %d%%" % percent)

    def HandleError(self):
        self.LastError = self.GetRegexMatch(1)

    def CheckExitCode(self, exitCode):
        action, reason = exit_code_action(exitCode)
        if action == "done":
            return
        message = "facetrain exit %d (%s): %s" % (exitCode, reason, self.LastError or "no ERROR: line")
        if action == "fail_job":
            self.LogWarning("%s; a retry cannot succeed: failing the job" % message)
            RepositoryUtils.FailJob(self.GetJob())
        elif action == "retry":
            if exitCode == 69:
                RepositoryUtils.AddBadSlaveForJob(self.GetJob(), self.GetSlaveName())
            message += "; Deadline requeues the task (a train task resumes from its last checkpoint)"
        self.FailRender(message)
