# A minimal Deadline plugin for facetrain (copy this folder to <repository>/custom/plugins/FaceTrain
# and submit jobs with Plugin=FaceTrain; its plugin info keys are those of the stock CommandLine
# plugin: Executable and Arguments, see ../../deadline_swap_plugin.job). What it adds to
# CommandLine: a progress bar from facetrain's `Progress: N%` lines and the task's error message
# from facetrain's last `ERROR:` line. Task success or failure still comes from the exit code.
from Deadline.Plugins import DeadlinePlugin, PluginType


def GetDeadlinePlugin():
    return FaceTrainPlugin()


def CleanupDeadlinePlugin(deadlinePlugin):
    deadlinePlugin.Cleanup()


class FaceTrainPlugin(DeadlinePlugin):
    def __init__(self):
        super().__init__()
        self.InitializeProcessCallback += self.InitializeProcess
        self.RenderExecutableCallback += self.RenderExecutable
        self.RenderArgumentCallback += self.RenderArgument

    def Cleanup(self):
        for handler in self.StdoutHandlers:
            del handler.HandleCallback
        del self.InitializeProcessCallback
        del self.RenderExecutableCallback
        del self.RenderArgumentCallback

    def InitializeProcess(self):
        self.PluginType = PluginType.Simple
        self.SingleFramesOnly = False
        self.StdoutHandling = True
        self.UseProcessTree = True
        self.AddStdoutHandlerCallback(r".*Progress: (\d+)%.*").HandleCallback += self.HandleProgress
        self.AddStdoutHandlerCallback(r"^ERROR:.*").HandleCallback += self.HandleError

    def RenderExecutable(self):
        return self.GetPluginInfoEntry("Executable")

    def RenderArgument(self):
        arguments = self.GetPluginInfoEntry("Arguments")
        arguments = arguments.replace("<STARTFRAME>", str(self.GetStartFrame()))
        arguments = arguments.replace("<ENDFRAME>", str(self.GetEndFrame()))
        return arguments.replace("<QUOTE>", '"')

    def HandleProgress(self):
        self.SetProgress(float(self.GetRegexMatch(1)))
        self.SetStatusMessage("facetrain: %s%%" % self.GetRegexMatch(1))

    def HandleError(self):
        self.FailRender(self.GetRegexMatch(0))
