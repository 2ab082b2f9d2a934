using System.Reflection;

namespace DeployFunctions;

/// <summary>The app's version, set once in <c>Directory.Build.props</c> (see CHANGELOG.md).</summary>
public static class AppVersion
{
    /// <summary>The semantic version, without the build's source revision (<c>0.3.0</c>, not <c>0.3.0+3f2a...</c>).</summary>
    public static string Current { get; } = Read();

    private static string Read()
    {
        var informational = typeof(AppVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return informational?.Split('+')[0] ?? typeof(AppVersion).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    }
}
