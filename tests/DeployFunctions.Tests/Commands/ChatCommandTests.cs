using System.Text;
using DeployFunctions.Commands;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;

namespace DeployFunctions.Tests.Commands;

public sealed class ChatCommandTests
{
    [Theory]
    [InlineData(".deploy", CommandVerb.Deploy, null, null)]
    [InlineData(".deploy to staging", CommandVerb.Deploy, "staging", null)]
    [InlineData(".DEPLOY main", CommandVerb.Deploy, null, "main")]
    [InlineData(".deploy main to staging", CommandVerb.Deploy, "staging", "main")]
    [InlineData(".noop to qa", CommandVerb.Noop, "qa", null)]
    public void Deploy_and_noop_read_their_environment_and_branch(string line, CommandVerb verb, string? environment, string? branch)
    {
        var command = ChatCommand.Parse(line, ".", out var problem);

        Assert.Null(problem);
        Assert.Equal((verb, environment, branch), (command!.Verb, command.Environment, command.Branch));
    }

    [Fact]
    public void Lock_reads_environment_global_details_and_a_reason_of_several_words()
    {
        var locked = ChatCommand.Parse(".lock production --reason release freeze until Monday", ".", out _)!;
        var global = ChatCommand.Parse(".lock --global", ".", out _)!;
        var details = ChatCommand.Parse(".lock --details staging", ".", out _)!;

        Assert.Equal(("production", "release freeze until Monday"), (locked.Environment, locked.Reason));
        Assert.True(global.Global);
        Assert.Equal((true, "staging"), (details.Details, details.Environment));
    }

    [Theory]
    [InlineData(".deploy to", "'to' needs an environment")]
    [InlineData(".deploy main to staging now", "unexpected `now`")]
    [InlineData(".lock --global production", "--global applies to every environment")]
    [InlineData(".lock --reason", "--reason needs a text")]
    [InlineData(".unlock --force", "unknown option `--force`")]
    [InlineData(".wcid please", ".wcid takes no arguments")]
    public void A_malformed_command_says_what_is_wrong(string line, string expected)
    {
        Assert.Null(ChatCommand.Parse(line, ".", out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".deploy", ".", true)]
    [InlineData("/deploy to staging", "/", true)]
    [InlineData("...and another thing", ".", false)]
    [InlineData(".deployment is broken", ".", false)]
    [InlineData("please .deploy", ".", false)]
    [InlineData(".deploy", "/", false)]
    public void Only_the_prefix_followed_by_a_command_word_is_a_command(string line, string prefix, bool expected) =>
        Assert.Equal(expected, ChatCommand.IsCommand(line, prefix));

    private static DeliveryRoute Route(string action = "created", bool onPullRequest = true, string userType = "User", string body = ".deploy\nsecond line")
    {
        var payload = WebhookExamples.Get("issue_comment", "created");
        payload["action"] = action;
        payload["comment"]!["body"] = body;
        payload["comment"]!["user"]!["type"] = userType;
        if (onPullRequest)
        {
            // DERIVED: GitHub's examples comment on issues only; a pull request's issue carries 'pull_request'.
            payload["issue"]!["pull_request"] = new System.Text.Json.Nodes.JsonObject { ["url"] = "https://api.github.com/repos/Codertocat/Hello-World/pulls/1" };
        }

        return DeliveryRoute.For("issue_comment", PayloadSummary.Read(Encoding.UTF8.GetBytes(payload.ToJsonString())), ".");
    }

    [Fact]
    public void A_new_command_comment_on_a_pull_request_is_queued_and_everything_else_ignored_with_the_reason()
    {
        Assert.Equal(new DeliveryRoute.Queued(DeliveryQueueKind.Commands), Route());
        Assert.Contains("only new comments", Assert.IsType<DeliveryRoute.Ignored>(Route(action: "edited")).Reason, StringComparison.Ordinal);
        Assert.Contains("not a pull request", Assert.IsType<DeliveryRoute.Ignored>(Route(onPullRequest: false)).Reason, StringComparison.Ordinal);
        Assert.Contains("bots never give commands", Assert.IsType<DeliveryRoute.Ignored>(Route(userType: "Bot")).Reason, StringComparison.Ordinal);
        Assert.Contains("not a command", Assert.IsType<DeliveryRoute.Ignored>(Route(body: "LGTM\n.deploy")).Reason, StringComparison.Ordinal);
        var off = DeliveryRoute.For("issue_comment", PayloadSummary.Read("""{"action":"created"}"""u8), commandPrefix: null);
        Assert.Contains("Commands__Enabled", Assert.IsType<DeliveryRoute.Ignored>(off).Reason, StringComparison.Ordinal);
    }
}
