using System.Text.Json;
using DeployFunctions.GitHub;

namespace DeployFunctions.Tests.GitHub;

/// <summary>How GitHub's GraphQL answer about a pull request is read (one class, from literal answers).</summary>
public sealed class PullRequestFactsTests
{
    private static JsonElement Pull(string isCrossRepository, string headRepository) => JsonDocument.Parse($$"""
        {
          "number": 8, "state": "OPEN", "isDraft": false, "headRefOid": "8888888888888888888888888888888888888888",
          "headRefName": "feature", "baseRefName": "main", "isCrossRepository": {{isCrossRepository}},
          "headRepository": {{headRepository}}, "reviewDecision": null,
          "latestOpinionatedReviews": { "nodes": [] }, "commits": { "nodes": [] }
        }
        """).RootElement;

    [Theory]
    [InlineData("false", "null", true)] // a head repository GitHub cannot name is never trusted, whatever the flag says
    [InlineData("true", "{ \"nameWithOwner\": \"mallory/app\" }", true)]
    [InlineData("false", "{ \"nameWithOwner\": \"octo/app\" }", false)]
    public void A_head_in_another_or_an_unknown_repository_is_a_fork(string isCrossRepository, string headRepository, bool fork)
    {
        Assert.Equal(fork, PullRequestFacts.Read(Pull(isCrossRepository, headRepository)).FromFork);
    }
}
