using System.Globalization;
using System.Text.Json;

namespace DeployFunctions;

/// <summary>What the Functions host reads from <c>host.json</c> (beside the app) that the app's own settings must agree with.</summary>
public static class HostJson
{
    /// <summary>The host's default <c>functionTimeout</c> on Flex Consumption when <c>host.json</c> sets none.</summary>
    public static readonly TimeSpan DefaultFunctionTimeout = TimeSpan.FromMinutes(30);

    /// <summary><c>functionTimeout</c> of the <c>host.json</c> in <paramref name="folder"/> (the app's folder by default); -1 means none.</summary>
    public static TimeSpan FunctionTimeout(string? folder = null)
    {
        var file = Path.Combine(folder ?? AppContext.BaseDirectory, "host.json");
        if (!File.Exists(file))
        {
            return DefaultFunctionTimeout;
        }

        using var json = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        return json.RootElement.TryGetProperty("functionTimeout", out var value) && value.GetString() is { } text
            ? text == "-1" ? Timeout.InfiniteTimeSpan : TimeSpan.Parse(text, CultureInfo.InvariantCulture)
            : DefaultFunctionTimeout;
    }
}
