using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Unicode;

namespace DeployFunctions.Webhooks;

/// <summary>
/// The few fields of a webhook payload the ingress routes on, read in one forward pass over the bytes
/// (which also proves the whole payload is well-formed JSON) without building a document.
/// </summary>
public sealed record PayloadSummary
{
    public string? Action { get; init; }
    public long? HookId { get; init; }
    public long? InstallationId { get; init; }
    public string? RepositoryFullName { get; init; }
    public long? PullRequestNumber { get; init; }
    public bool? PullRequestMerged { get; init; }

    /// <summary><c>deployment.id</c> of deployment and deployment status events.</summary>
    public long? DeploymentId { get; init; }

    /// <summary><c>deployment.environment</c> of deployment and deployment status events.</summary>
    public string? DeploymentEnvironment { get; init; }

    /// <summary><c>issue.number</c> of issue comment events.</summary>
    public long? IssueNumber { get; init; }

    /// <summary>True when <c>issue.pull_request</c> is present: the comment is on a pull request.</summary>
    public bool IssueIsPullRequest { get; init; }

    /// <summary>The first line of <c>comment.body</c>, trimmed (at most <see cref="MaxCommentLine"/> characters).</summary>
    public string? CommentFirstLine { get; init; }

    /// <summary><c>comment.user.type</c>: <c>Bot</c> for apps.</summary>
    public string? CommentUserType { get; init; }

    /// <summary><c>comment.user.login</c>.</summary>
    public string? CommentUserLogin { get; init; }

    /// <summary><c>workflow_run.event</c>: what started a workflow run (<c>workflow_dispatch</c> for the runs the app starts).</summary>
    public string? WorkflowRunEvent { get; init; }

    /// <summary>The longest first line of a comment kept; a command is far shorter.</summary>
    public const int MaxCommentLine = 256;

    /// <summary>
    /// The deepest payload accepted. The queue message nests the payload one level down, and every reader after the
    /// ingress (envelope, typed events) reads to this depth too, so nothing accepted is unreadable later.
    /// </summary>
    public const int MaxDepth = 64;

    private enum Section { None, Installation, Repository, PullRequest, Deployment, Issue, Comment, WorkflowRun }

    /// <summary>Reads <paramref name="json"/>; throws <see cref="InvalidPayloadException"/> when it is not one JSON object.</summary>
    public static PayloadSummary Read(ReadOnlySpan<byte> json)
    {
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw new InvalidPayloadException("the payload is empty");
        }

        // The reader checks UTF-8 only in the strings it decodes; GitHub sends UTF-8, so check all of it (vectorized).
        if (!Utf8.IsValid(json))
        {
            throw new InvalidPayloadException("the payload is not valid UTF-8");
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            reader.Read();

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidPayloadException($"the payload is a JSON {Describe(reader.TokenType)}, not an object");
            }

            var fields = new Fields();
            // The loop stays small so the JIT keeps the reader's hot path inlined: only the few property names that can
            // matter leave it (measured: the same checks written inline cost 15% of the pass, docs/benchmarks.md).
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && fields.Wants(reader.CurrentDepth))
                {
                    fields.Take(ref reader);
                }
            }

            return fields.Summary;
        }
        catch (JsonException exception)
        {
            throw new InvalidPayloadException(
                $"the payload is not valid JSON (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1})");
        }
    }

    /// <summary>What one pass has found so far, and where in the payload it is.</summary>
    private struct Fields
    {
        private Section section;
        private bool inCommentUser;
        private string? action;
        private long? hookId;
        private long? installationId;
        private string? repositoryFullName;
        private long? pullRequestNumber;
        private bool? pullRequestMerged;
        private long? deploymentId;
        private string? deploymentEnvironment;
        private long? issueNumber;
        private bool issueIsPullRequest;
        private string? commentFirstLine;
        private string? commentUserType;
        private string? commentUserLogin;
        private string? workflowRunEvent;

        public readonly PayloadSummary Summary => new()
        {
            Action = action,
            HookId = hookId,
            InstallationId = installationId,
            RepositoryFullName = repositoryFullName,
            PullRequestNumber = pullRequestNumber,
            PullRequestMerged = pullRequestMerged,
            DeploymentId = deploymentId,
            DeploymentEnvironment = deploymentEnvironment,
            IssueNumber = issueNumber,
            IssueIsPullRequest = issueIsPullRequest,
            CommentFirstLine = commentFirstLine,
            CommentUserType = commentUserType,
            CommentUserLogin = commentUserLogin,
            WorkflowRunEvent = workflowRunEvent,
        };

        public readonly bool Wants(int depth) =>
            depth == 1 || (depth == 2 && section != Section.None) || (depth == 3 && inCommentUser);

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Take(ref Utf8JsonReader reader)
        {
            switch (reader.CurrentDepth)
            {
                case 1:
                    inCommentUser = false;
                    section = TakeTopLevel(ref reader);
                    break;
                case 2:
                    inCommentUser = false;
                    TakeInSection(ref reader);
                    break;
                default:
                    if (reader.ValueTextEquals("type"u8))
                    {
                        commentUserType = ReadString(ref reader);
                    }
                    else if (reader.ValueTextEquals("login"u8))
                    {
                        commentUserLogin = ReadString(ref reader);
                    }

                    break;
            }
        }

        private Section TakeTopLevel(ref Utf8JsonReader reader)
        {
            if (reader.ValueTextEquals("action"u8))
            {
                action = ReadString(ref reader);
                return Section.None;
            }

            if (reader.ValueTextEquals("hook_id"u8))
            {
                hookId = ReadInt64(ref reader);
                return Section.None;
            }

            return reader.ValueTextEquals("installation"u8) ? Section.Installation
                : reader.ValueTextEquals("repository"u8) ? Section.Repository
                : reader.ValueTextEquals("pull_request"u8) ? Section.PullRequest
                : reader.ValueTextEquals("deployment"u8) ? Section.Deployment
                : reader.ValueTextEquals("issue"u8) ? Section.Issue
                : reader.ValueTextEquals("comment"u8) ? Section.Comment
                : reader.ValueTextEquals("workflow_run"u8) ? Section.WorkflowRun
                : Section.None;
        }

        private void TakeInSection(ref Utf8JsonReader reader)
        {
            switch (section)
            {
                case Section.Installation when reader.ValueTextEquals("id"u8):
                    installationId = ReadInt64(ref reader);
                    break;
                case Section.Repository when reader.ValueTextEquals("full_name"u8):
                    repositoryFullName = ReadString(ref reader);
                    break;
                case Section.PullRequest when reader.ValueTextEquals("number"u8):
                    pullRequestNumber = ReadInt64(ref reader);
                    break;
                case Section.PullRequest when reader.ValueTextEquals("merged"u8):
                    pullRequestMerged = ReadBoolean(ref reader);
                    break;
                case Section.Deployment when reader.ValueTextEquals("id"u8):
                    deploymentId = ReadInt64(ref reader);
                    break;
                case Section.Deployment when reader.ValueTextEquals("environment"u8):
                    deploymentEnvironment = ReadString(ref reader);
                    break;
                case Section.Issue when reader.ValueTextEquals("number"u8):
                    issueNumber = ReadInt64(ref reader);
                    break;
                case Section.Issue when reader.ValueTextEquals("pull_request"u8):
                    reader.Read();
                    issueIsPullRequest = reader.TokenType == JsonTokenType.StartObject;
                    break;
                case Section.Comment when reader.ValueTextEquals("body"u8):
                    commentFirstLine = ReadString(ref reader) is { } body ? FirstLine(body) : null;
                    break;
                case Section.Comment when reader.ValueTextEquals("user"u8):
                    inCommentUser = true;
                    break;
                case Section.WorkflowRun when reader.ValueTextEquals("event"u8):
                    workflowRunEvent = ReadString(ref reader);
                    break;
                default:
                    break;
            }
        }
    }

    private static string FirstLine(string body)
    {
        var line = Commands.ChatCommand.FirstLine(body);
        return line.Length <= MaxCommentLine ? line : line[..MaxCommentLine];
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }

    private static long? ReadInt64(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : null;
    }

    private static bool? ReadBoolean(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => null,
        };
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}

/// <summary>The delivery's payload cannot be read; the message is safe to show the sender.</summary>
public sealed class InvalidPayloadException : Exception
{
    public InvalidPayloadException()
    {
    }

    public InvalidPayloadException(string message)
        : base(message)
    {
    }

    public InvalidPayloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
