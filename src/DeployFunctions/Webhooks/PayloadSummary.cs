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

            string? action = null, repository = null;
            string? environment = null, commentLine = null, commentUserType = null, commentUserLogin = null, runEvent = null;
            long? hookId = null, installationId = null, number = null, deploymentId = null, issueNumber = null;
            bool? merged = null;
            var onPullRequest = false;
            var section = Section.None;
            var inCommentUser = false;

            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    section = Section.None;
                    inCommentUser = false;
                    if (reader.ValueTextEquals("action"u8))
                    {
                        action = ReadString(ref reader);
                    }
                    else if (reader.ValueTextEquals("hook_id"u8))
                    {
                        hookId = ReadInt64(ref reader);
                    }
                    else if (reader.ValueTextEquals("installation"u8))
                    {
                        section = Section.Installation;
                    }
                    else if (reader.ValueTextEquals("repository"u8))
                    {
                        section = Section.Repository;
                    }
                    else if (reader.ValueTextEquals("pull_request"u8))
                    {
                        section = Section.PullRequest;
                    }
                    else if (reader.ValueTextEquals("deployment"u8))
                    {
                        section = Section.Deployment;
                    }
                    else if (reader.ValueTextEquals("issue"u8))
                    {
                        section = Section.Issue;
                    }
                    else if (reader.ValueTextEquals("comment"u8))
                    {
                        section = Section.Comment;
                    }
                    else if (reader.ValueTextEquals("workflow_run"u8))
                    {
                        section = Section.WorkflowRun;
                    }
                }
                else if (reader.CurrentDepth == 3 && inCommentUser)
                {
                    if (reader.ValueTextEquals("type"u8))
                    {
                        commentUserType = ReadString(ref reader);
                    }
                    else if (reader.ValueTextEquals("login"u8))
                    {
                        commentUserLogin = ReadString(ref reader);
                    }
                }
                else if (reader.CurrentDepth == 2 && section != Section.None)
                {
                    inCommentUser = false;
                    switch (section)
                    {
                        case Section.Installation when reader.ValueTextEquals("id"u8):
                            installationId = ReadInt64(ref reader);
                            break;
                        case Section.Repository when reader.ValueTextEquals("full_name"u8):
                            repository = ReadString(ref reader);
                            break;
                        case Section.PullRequest when reader.ValueTextEquals("number"u8):
                            number = ReadInt64(ref reader);
                            break;
                        case Section.PullRequest when reader.ValueTextEquals("merged"u8):
                            merged = ReadBoolean(ref reader);
                            break;
                        case Section.Deployment when reader.ValueTextEquals("id"u8):
                            deploymentId = ReadInt64(ref reader);
                            break;
                        case Section.Deployment when reader.ValueTextEquals("environment"u8):
                            environment = ReadString(ref reader);
                            break;
                        case Section.Issue when reader.ValueTextEquals("number"u8):
                            issueNumber = ReadInt64(ref reader);
                            break;
                        case Section.Issue when reader.ValueTextEquals("pull_request"u8):
                            reader.Read();
                            onPullRequest = reader.TokenType == JsonTokenType.StartObject;
                            break;
                        case Section.Comment when reader.ValueTextEquals("body"u8):
                            commentLine = ReadString(ref reader) is { } body ? FirstLine(body) : null;
                            break;
                        case Section.Comment when reader.ValueTextEquals("user"u8):
                            inCommentUser = true;
                            break;
                        case Section.WorkflowRun when reader.ValueTextEquals("event"u8):
                            runEvent = ReadString(ref reader);
                            break;
                        default:
                            break;
                    }
                }
            }

            return new PayloadSummary
            {
                Action = action,
                HookId = hookId,
                InstallationId = installationId,
                RepositoryFullName = repository,
                PullRequestNumber = number,
                PullRequestMerged = merged,
                DeploymentId = deploymentId,
                DeploymentEnvironment = environment,
                IssueNumber = issueNumber,
                IssueIsPullRequest = onPullRequest,
                CommentFirstLine = commentLine,
                CommentUserType = commentUserType,
                CommentUserLogin = commentUserLogin,
                WorkflowRunEvent = runEvent,
            };
        }
        catch (JsonException exception)
        {
            throw new InvalidPayloadException(
                $"the payload is not valid JSON (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1})");
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
