namespace DeployFunctions;

/// <summary>What of a URL may be written to a log: a deploy hook's status URL may carry a token in its query or fragment.</summary>
public static class Redacted
{
    /// <summary>The URL without its query, fragment and user information (<c>https://host/path</c>).</summary>
    public static string Url(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var parsed) ? parsed.GetLeftPart(UriPartial.Path).Replace(parsed.UserInfo + "@", "", StringComparison.Ordinal) : "(not a URL)";
}
