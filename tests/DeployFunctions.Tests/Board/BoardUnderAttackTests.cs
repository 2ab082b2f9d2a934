using System.Text.Json.Nodes;
using DeployFunctions.Board;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Board;

/// <summary>
/// Who could write what the board shows: a collaborator can create deployments and post statuses through GitHub's API,
/// and GitHub delivers them to the app, signed. None of it reaches the board or the four keys.
/// </summary>
public sealed class BoardUnderAttackTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string MergeSha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

    private static Task<JsonNode?> AsMalloryAsync(Support.Pipeline pipeline, string path, string body) =>
        Collaborator.CallAsync(pipeline.GitHub, "mallory", HttpMethod.Post, path, body);

    [Fact]
    public async Task A_collaborators_own_deployment_and_her_statuses_on_the_apps_change_nothing_on_the_board()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        var board = pipeline.Services.GetRequiredService<IDeployBoard>();
        await Eventually.TrueAsync(async () => (await board.EnvironmentsAsync(null, null, 10, null, default)).Environments.SingleOrDefault()?.Live?.Sha == MergeSha,
            "the app's deployment live on the board");
        var ours = pipeline.Deployments().Single(d => d.Creator == StandInState.AppLogin);

        // Her own deployment of another commit, "succeeded"; and a "failure" on the app's deployment after it succeeded.
        var hers = await AsMalloryAsync(pipeline, "/repos/Codertocat/Hello-World/deployments",
            """{"ref":"1111111111111111111111111111111111111111","environment":"production","required_contexts":[],"auto_merge":false}""");
        await AsMalloryAsync(pipeline, $"/repos/Codertocat/Hello-World/deployments/{(long)hers!["id"]!}/statuses", """{"state":"success"}""");
        await AsMalloryAsync(pipeline, $"/repos/Codertocat/Hello-World/deployments/{ours.Id}/statuses", """{"state":"failure"}""");
        await Eventually.TrueAsync(async () => (await pipeline.HistoryAsync("Codertocat/Hello-World")).Count(s => s.Creator == "mallory") == 2,
            "both of her statuses delivered and logged");

        var environment = Assert.Single((await board.EnvironmentsAsync(null, null, 10, null, default)).Environments);
        Assert.Equal(MergeSha, environment.Live?.Sha);
        Assert.Equal(["success"], environment.Recent.Select(d => d.State));
        var today = TableDeployBoard.Day(DateTimeOffset.UtcNow);
        var totals = Assert.Single(await board.DaysAsync(null, "production", today.AddDays(-1), today, default));
        Assert.Equal((1, 0), (totals.Succeeded, totals.Failed));
    }
}
