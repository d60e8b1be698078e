"""Stand-in of Deadline.Scripting (FileUtils, RepositoryUtils) for tests; see __init__.py."""
import os


class FileUtils:
    @staticmethod
    def SearchFileList(file_list):
        """The first existing file of a semicolon-separated list, or ""."""
        for path in file_list.split(";"):
            path = path.strip()
            if path and os.path.isfile(path):
                return path
        return ""


class RepositoryUtils:
    # (from, to) prefixes of the repository's path mapping; set by the test runner.
    PathMapping = []
    FailedJobs = []
    BadWorkers = []

    @staticmethod
    def CheckPathMapping(text):
        for source, target in RepositoryUtils.PathMapping:
            text = text.replace(source, target)
        return text

    @staticmethod
    def FailJob(job):
        RepositoryUtils.FailedJobs.append(job)

    @staticmethod
    def AddBadSlaveForJob(job, worker):
        RepositoryUtils.BadWorkers.append((job, worker))
