using GitHubStandIn;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// A pull request conversation to give commands in: the whole app (<see cref="Pipeline"/>) and, in the GitHub stand-in,
/// pull request #7 of <c>octo/app</c> by alice into <c>main</c>, approved by carol, with alice and bob (write), ada (admin),
/// carol (write) and rita (read) as collaborators, and <c>main</c>'s head at <see cref="StableSha"/>.
/// </summary>
internal sealed class CommandRoom : IAsyncDisposable
{
    public const string Repository = "octo/app";
    public const string HeadSha = "1111111111111111111111111111111111111111";
    public const string StableSha = "5555555555555555555555555555555555555555";

    public required Pipeline Pipeline { get; init; }
    public required StandInPullRequest Pull { get; init; }

    public StandInState State => Pipeline.GitHub.State;

    public static async Task<CommandRoom> OpenAsync(
        Azurite azurite, Action<Dictionary<string, string?>>? configure = null, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        var pipeline = await Pipeline.StartAsync(azurite, configure, logs: logs);
        var state = pipeline.GitHub.State;
        var pull = state.OpenPullRequest(state.Repository("octo", "app"), 7, HeadSha, author: "alice", baseRef: "main");
        state.Permissions[(Repository, "alice")] = "write";
        state.Permissions[(Repository, "bob")] = "write";
        state.Permissions[(Repository, "carol")] = "write";
        state.Permissions[(Repository, "ada")] = "admin";
        state.Permissions[(Repository, "rita")] = "read";
        state.Review(pull, "carol", "APPROVED");
        state.Branches[(Repository, "main")] = StableSha;
        return new CommandRoom { Pipeline = pipeline, Pull = pull };
    }

    /// <summary>The same room, with a second environment, <c>staging</c> (simulated), beside <c>production</c>.</summary>
    public static Task<CommandRoom> OpenWithStagingAsync(Azurite azurite, Action<Dictionary<string, string?>>? configure = null) =>
        OpenAsync(azurite, s =>
        {
            s["Environments:staging:Provider"] = "simulated";
            configure?.Invoke(s);
        });

    public StandInComment Say(string user, string body, StandInPullRequest? on = null) => Pipeline.GitHub.Comment(on ?? Pull, user, body);

    /// <summary>Our replies to one command (each carries the command's hidden marker).</summary>
    public List<StandInComment> RepliesTo(StandInComment command, StandInPullRequest? on = null) =>
        [.. State.CommentsOn((on ?? Pull).Repository.FullName, (on ?? Pull).Number).Where(c => c.UserType == "Bot" && c.Body.StartsWith($"<!-- deployfunctions:reply:{command.Id}:", StringComparison.Ordinal))];

    public async Task<StandInComment> AnsweredAsync(StandInComment command, string reaction, StandInPullRequest? on = null)
    {
        await Eventually.TrueAsync(() => State.ReactionsOn(command.Id).Contains(reaction) && RepliesTo(command, on).Count > 0,
            $"'{command.Body}' answered with {reaction}");
        return Assert.Single(RepliesTo(command, on));
    }

    /// <summary>Opens another pull request of <c>octo/app</c> (by alice, approved by carol unless <paramref name="approvedBy"/> says otherwise).</summary>
    public StandInPullRequest Open(long number, string headSha, string baseRef = "main", string? approvedBy = "carol")
    {
        var pull = State.OpenPullRequest(Pull.Repository, number, headSha, author: "alice", baseRef: baseRef);
        if (approvedBy is not null)
        {
            State.Review(pull, approvedBy, "APPROVED");
        }

        return pull;
    }

    public List<StandInDeployment> Deployments() => Pipeline.Deployments();

    public ValueTask DisposeAsync() => Pipeline.DisposeAsync();
}
