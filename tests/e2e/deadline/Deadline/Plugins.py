"""Stand-in of Deadline.Plugins (DeadlinePlugin, PluginType) for tests; see __init__.py."""
import re


class PluginType:
    Simple = "Simple"
    Advanced = "Advanced"


class FailRenderException(Exception):
    pass


class Callback:
    """A .NET-style event: `callback += function` adds a handler; calling it calls them all."""

    def __init__(self):
        self.handlers = []

    def __iadd__(self, function):
        self.handlers.append(function)
        return self

    def __call__(self, *args):
        result = None
        for handler in self.handlers:
            result = handler(*args)
        return result


class RegexHandler:
    def __init__(self, regex):
        self.Regex = re.compile(regex)
        self.HandleCallback = Callback()


class DeadlinePlugin:
    # Set by the test runner (run_task.py) before the plugin is created.
    Task = None

    def __init__(self):
        self.InitializeProcessCallback = Callback()
        self.RenderExecutableCallback = Callback()
        self.RenderArgumentCallback = Callback()
        self.CheckExitCodeCallback = Callback()
        self.StdoutHandlers = []
        self._match = None

    def AddStdoutHandlerCallback(self, regex):
        handler = RegexHandler(regex)
        self.StdoutHandlers.append(handler)
        return handler

    def feed_stdout_line(self, line):
        """What the worker does with each stdout line: every handler whose regex matches is called."""
        for handler in self.StdoutHandlers:
            match = handler.Regex.search(line)
            if match:
                self._match = match
                handler.HandleCallback()

    def GetRegexMatch(self, index):
        return self._match.group(index)

    def GetPluginInfoEntry(self, key):
        if key not in self.Task.plugin_info:
            raise KeyError("plugin info has no %s" % key)
        return self.Task.plugin_info[key]

    def GetPluginInfoEntryWithDefault(self, key, default):
        return self.Task.plugin_info.get(key, default)

    def GetConfigEntry(self, key):
        return self.Task.config[key]

    def GetConfigEntryWithDefault(self, key, default):
        return self.Task.config.get(key, default)

    def GetStartFrame(self):
        return self.Task.start_frame

    def GetEndFrame(self):
        return self.Task.end_frame

    def GetPluginDirectory(self):
        return self.Task.plugin_directory

    def GetJob(self):
        return self.Task.job

    def GetSlaveName(self):
        return self.Task.worker

    def SetProgress(self, percent):
        self.Task.progress.append(percent)

    def SetStatusMessage(self, message):
        self.Task.status = message

    def LogInfo(self, message):
        self.Task.log.append("INFO: " + message)

    def LogWarning(self, message):
        self.Task.log.append("WARNING: " + message)

    def FailRender(self, message):
        raise FailRenderException(message)
