namespace GitHubStandIn;

/// <summary>
/// JSON in GitHub's own shapes (REST answers and webhook payloads), built with the same property names as the real
/// payloads in @octokit/webhooks-examples; a test in DeployFunctions.Tests compares them.
/// </summary>
public static partial class GitHubShapes;
