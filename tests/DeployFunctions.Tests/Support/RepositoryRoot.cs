namespace DeployFunctions.Tests.Support;

/// <summary>The checkout the tests run from, found by walking up to <c>DeployFunctions.sln</c>.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>The version <c>Directory.Build.props</c> sets: the one place it lives.</summary>
    public static string ProjectVersion() =>
        System.Xml.Linq.XDocument.Load(Combine("Directory.Build.props")).Descendants("Version").Single().Value;

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "DeployFunctions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("DeployFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}
