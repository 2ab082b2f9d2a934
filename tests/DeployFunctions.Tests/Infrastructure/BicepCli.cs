using System.Reflection;
using System.Runtime.InteropServices;

namespace DeployFunctions.Tests.Infrastructure;

/// <summary>
/// Which Bicep CLI compiles infra/: the one restored from NuGet where it runs (its package exists for linux-x64 only),
/// else a <c>bicep</c> on the PATH, else the one <c>az bicep install</c> puts in <c>~/.azure/bin</c>; none: the
/// infrastructure tests are skipped, with the reason, rather than failed.
/// </summary>
internal static class BicepCli
{
    public const string Missing =
        "no Bicep CLI for this machine: the NuGet package runs on linux-x64 only. Install one (`az bicep install`, or `bicep` on the PATH) to run the infrastructure tests.";

    public static readonly string? Path = Find(
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && RuntimeInformation.OSArchitecture == Architecture.X64,
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCli").Value,
        Environment.GetEnvironmentVariable("PATH"),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
        OperatingSystem.IsWindows());

    public static string? Find(bool linuxX64, string? nugetCli, string? searchPath, string? home, bool windows)
    {
        if (linuxX64 && nugetCli is not null && File.Exists(nugetCli))
        {
            return nugetCli;
        }

        var name = windows ? "bicep.exe" : "bicep";
        var candidates = (searchPath ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(home is null ? "" : System.IO.Path.Combine(home, ".azure", "bin"))
            .Where(folder => folder.Length > 0)
            .Select(folder => System.IO.Path.Combine(folder, name));
        return candidates.FirstOrDefault(File.Exists);
    }
}

/// <summary>A fact that needs the Bicep CLI: skipped, with the reason, where there is none.</summary>
public sealed class BicepFactAttribute : FactAttribute
{
    public BicepFactAttribute()
    {
        if (BicepCli.Path is null)
        {
            Skip = BicepCli.Missing;
        }
    }
}

/// <summary>A theory that needs the Bicep CLI: skipped, with the reason, where there is none.</summary>
public sealed class BicepTheoryAttribute : TheoryAttribute
{
    public BicepTheoryAttribute()
    {
        if (BicepCli.Path is null)
        {
            Skip = BicepCli.Missing;
        }
    }
}
