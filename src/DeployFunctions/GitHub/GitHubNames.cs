namespace DeployFunctions.GitHub;

/// <summary>Small facts about GitHub's names and states, in one place.</summary>
public static class GitHubNames
{
    /// <summary><c>owner/name</c> into its two parts (everything after the first slash is the name).</summary>
    public static (string Owner, string Name) Split(string fullName)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        var slash = fullName.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (fullName, "") : (fullName[..slash], fullName[(slash + 1)..]);
    }

    /// <summary>True for the deployment states after which nothing more happens to a deployment.</summary>
    public static bool IsFinalDeploymentState(string? state) => state is "success" or "failure" or "error" or "inactive";
}
